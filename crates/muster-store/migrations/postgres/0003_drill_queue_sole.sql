-- A run that plants a shared fixture (content every conversation sees, such as a knowledge-base
-- article) has the agent to itself: it is taken only when no other conversation of its drill is
-- under way, and none is taken while it is.
ALTER TABLE drill_queue ADD COLUMN sole BOOLEAN NOT NULL DEFAULT FALSE;
