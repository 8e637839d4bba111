/** Signing in to the console over plain HTTP, as a browser's form would. */

/** The sign-in form's token, as its page sets it in a cookie. */
export async function signInForm(baseUrl: string, headers: Record<string, string> = {}) {
  const page = await fetch(`${baseUrl}/console/sign-in`, { headers });
  const cookie = page.headers.getSetCookie().find((c) => c.startsWith('rf_sign_in='))!;
  return { page, cookie, token: decodeURIComponent(cookie.split(';')[0]!.slice('rf_sign_in='.length)) };
}

export function postSignIn(baseUrl: string, token: string, key: string, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `rf_sign_in=${encodeURIComponent(token)}`, ...headers },
    body: new URLSearchParams({ _csrf: token, key }).toString(),
  });
}

/** A signed-in session's cookie (`rf_session=…`) for `key`. */
export async function consoleSession(baseUrl: string, key: string): Promise<string> {
  const { token } = await signInForm(baseUrl);
  const answer = await postSignIn(baseUrl, token, key);
  if (answer.status !== 303) throw new Error(`sign-in refused: ${answer.status}`);
  return answer.headers.getSetCookie().find((c) => c.startsWith('rf_session='))!.split(';')[0]!;
}
