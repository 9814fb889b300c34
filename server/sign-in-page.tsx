import { Layout } from './page-layout.js';

/**
 * The page's sign-in form, shown instead of the page when the node has a client token and the
 * browser has not given it. A plain form post (no JavaScript): `/ui/login` keeps the token in
 * an HttpOnly, SameSite=Strict cookie.
 */
export function SignInPage({ error }: { error?: string | undefined }) {
  return (
    <Layout title="diststore · sign in">
      <form
        class="card signin"
        method="post"
        action="/ui/login"
        enctype="application/x-www-form-urlencoded"
        data-testid="sign-in-form"
      >
        <h2>Sign in</h2>
        <label for="token">Client token</label>
        <input
          id="token"
          name="token"
          type="password"
          required
          autocomplete="current-password"
          aria-describedby="token-hint"
        />
        <p class="hint" id="token-hint">
          This node needs its client token (--client-token-file). This browser keeps it in a cookie
          for 30 days.
        </p>
        {error && (
          <p class="result error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
