"""The dialogue layer, the channels, the command line and the server."""
