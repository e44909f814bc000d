"""Package data of pro-server, installed as `pro_server.example_studies` (see setup.py); no code."""
