# WebSocket end-to-end tests
