// QuorumSteps
