-- Drill events are read by stream (`events_by_stream`) and counted by drill (through the same
-- index); nothing reads them by kind. The index by kind cost every commit of a drill a page per
-- kind it wrote (eight or more of the ~30 pages a commit of a few conversations writes to the log).
DROP INDEX IF EXISTS events_by_kind;
