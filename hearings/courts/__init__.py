"""Courts, their staff, rooms, working hours, holidays and the contact directory."""
