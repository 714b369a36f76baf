/** An error as askbase answers it: its status, the headers it carries, and its JSON body. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string } & Record<string, unknown> };
}
