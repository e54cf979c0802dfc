"""End users: the people whose wearable data the platform stores."""
