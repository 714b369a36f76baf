ALTER TABLE "question_answers" ADD COLUMN "kind" text DEFAULT 'ask' NOT NULL;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "conversation_id" bigint;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "parent_id" bigint;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "request_messages" jsonb;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "request_params" jsonb;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "response" jsonb;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "finish_reason" text;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "ttft_ms" integer;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "cached_prompt_tokens" integer;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "reasoning_tokens" integer;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "state_digest" text;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "request_digest" text;--> statement-breakpoint
CREATE INDEX "question_answers_state_digest_idx" ON "question_answers" USING btree ("state_digest") WHERE "question_answers"."state_digest" is not null;--> statement-breakpoint
CREATE INDEX "question_answers_pending_request_digest_idx" ON "question_answers" USING btree ("request_digest") WHERE "question_answers"."status" = 'pending' and "question_answers"."request_digest" is not null;--> statement-breakpoint
CREATE INDEX "question_answers_conversation_id_idx" ON "question_answers" USING btree ("conversation_id","id") WHERE "question_answers"."conversation_id" is not null;--> statement-breakpoint
CREATE INDEX "question_answers_chat_id_idx" ON "question_answers" USING btree ("id") WHERE "question_answers"."kind" = 'chat';--> statement-breakpoint
ALTER TABLE "question_answers" ADD CONSTRAINT "question_answers_kind_known" CHECK ("question_answers"."kind" in ('ask', 'chat'));