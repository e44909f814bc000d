"""Package data of pro-server, installed as `pro_server.static` (see setup.py); no code."""
