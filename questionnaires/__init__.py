"""Package data of pro-server, installed as `pro_server.questionnaires` (see setup.py); no code."""
