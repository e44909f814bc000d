"""Package data of pro-server, installed as `pro_server.migrations` (see setup.py); no code."""
