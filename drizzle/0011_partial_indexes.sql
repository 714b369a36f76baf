DROP INDEX "question_answers_search_terms_idx";--> statement-breakpoint
DROP INDEX "question_answers_key_name_id_idx";--> statement-breakpoint
CREATE INDEX "question_answers_search_terms_idx" ON "question_answers" USING gin ("search_terms") WHERE "question_answers"."search_terms" <> '{}';--> statement-breakpoint
CREATE INDEX "question_answers_key_name_id_idx" ON "question_answers" USING btree ("key_name","id") WHERE "question_answers"."key_name" is not null;