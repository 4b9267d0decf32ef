// What the sign-in screen adds to a refusal: a hint of what to check, by error code.

import type { BackendErrorCode } from '$lib/backend';

export type EnrollHintKey = 'enroll.hint.offline' | 'enroll.hint.not_signed_in';

/** The hint shown under the backend's message, if the code has one. */
export function enrollHint(code: BackendErrorCode): EnrollHintKey | null {
  switch (code) {
    case 'offline':
      return 'enroll.hint.offline';
    case 'not_signed_in':
      return 'enroll.hint.not_signed_in';
    default:
      return null;
  }
}

export interface EnrollForm {
  server: string;
  username: string;
  password: string;
}

/** Whether every field holds something (the server checks the rest). */
export function formComplete(form: EnrollForm): boolean {
  return form.server.trim() !== '' && form.username.trim() !== '' && form.password !== '';
}
