"""The command-centre screen and the Open311 GeoReport v2 endpoint: one read-only web server on SCREEN_PORT."""
