DROP INDEX "question_answers_pending_created_at_idx";--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "deadline_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "question_answers_pending_deadline_at_idx" ON "question_answers" USING btree ("deadline_at") WHERE "question_answers"."status" = 'pending';--> statement-breakpoint
ALTER TABLE "question_answers" ADD CONSTRAINT "question_answers_attempt_positive" CHECK ("question_answers"."attempt" >= 1);