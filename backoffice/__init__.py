"""The back office: the pages that set a company up, calling each room's services."""
