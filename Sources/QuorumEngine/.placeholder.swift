// QuorumEngine
