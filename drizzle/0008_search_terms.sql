ALTER TABLE "question_answers" ADD COLUMN "search_terms" text[];--> statement-breakpoint
CREATE INDEX "question_answers_search_terms_idx" ON "question_answers" USING gin ("search_terms");--> statement-breakpoint
CREATE INDEX "question_answers_search_terms_missing_idx" ON "question_answers" USING btree ("id") WHERE "question_answers"."search_terms" is null;