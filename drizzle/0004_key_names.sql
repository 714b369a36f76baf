ALTER TABLE "question_answers" ADD COLUMN "key_name" text;--> statement-breakpoint
CREATE INDEX "question_answers_key_name_id_idx" ON "question_answers" USING btree ("key_name","id");