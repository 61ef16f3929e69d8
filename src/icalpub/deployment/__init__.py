"""Configuration for the programs around icalpub (nginx), written from the registry and `urls`."""
