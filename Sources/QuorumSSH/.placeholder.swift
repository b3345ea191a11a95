// QuorumSSH
