ALTER TABLE "question_answers" ADD COLUMN "search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', left("question_answers"."question" || ' ' || coalesce("question_answers"."answer", ''), 200000))) STORED;--> statement-breakpoint
CREATE INDEX "question_answers_search_vector_idx" ON "question_answers" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "question_answers_status_id_idx" ON "question_answers" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "question_answers_created_at_idx" ON "question_answers" USING btree ("created_at");