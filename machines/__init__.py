"""Coffee machines: selections, access modes, credit, brews, device protocol, simulator."""
