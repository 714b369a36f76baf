ALTER TABLE "question_answers" ADD COLUMN "cache_key" text;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "cached_from" bigint;--> statement-breakpoint
CREATE INDEX "question_answers_cache_key_id_idx" ON "question_answers" USING btree ("cache_key","id") WHERE "question_answers"."status" = 'answered' and "question_answers"."cache_key" is not null;