CREATE TABLE "askbase_leases" (
	"owner" text PRIMARY KEY NOT NULL,
	"heartbeat_at" timestamp with time zone NOT NULL
);
