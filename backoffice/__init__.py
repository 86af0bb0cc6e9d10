"""The back office: the pages that set a venue up, calling each room's services."""
