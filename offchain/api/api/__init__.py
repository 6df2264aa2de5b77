"""HTTP and WebSocket surface of the API: dependencies and one router per resource."""
