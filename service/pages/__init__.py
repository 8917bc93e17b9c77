"""Pages for people: login, the index, an order's map and the force-wide alert map."""
