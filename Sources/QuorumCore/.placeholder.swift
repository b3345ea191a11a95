// QuorumCore
