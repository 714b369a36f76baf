ALTER TABLE "question_answers" DROP CONSTRAINT "question_answers_kind_known";--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "response_id" text;--> statement-breakpoint
CREATE INDEX "question_answers_response_kind_id_idx" ON "question_answers" USING btree ("id") WHERE "question_answers"."kind" = 'response';--> statement-breakpoint
CREATE UNIQUE INDEX "question_answers_response_id_idx" ON "question_answers" USING btree ("response_id") WHERE "question_answers"."response_id" is not null;--> statement-breakpoint
ALTER TABLE "question_answers" ADD CONSTRAINT "question_answers_kind_known" CHECK ("question_answers"."kind" in ('ask', 'chat', 'response'));