ALTER TABLE "question_answers" ADD COLUMN "cost_usd" double precision;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "price_input_per_mtok" double precision;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "price_output_per_mtok" double precision;--> statement-breakpoint
ALTER TABLE "question_answers" ADD COLUMN "price_cached_input_per_mtok" double precision;--> statement-breakpoint
ALTER TABLE "question_answers" ADD CONSTRAINT "question_answers_cost_non_negative" CHECK (coalesce("question_answers"."cost_usd", 0) >= 0);