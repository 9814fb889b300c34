import type { Child } from 'hono/jsx';
import { SCRIPT } from './page-script.js';
import { STYLE } from './page-style.js';

/**
 * The frame of the node's HTML pages (the page and its sign-in form): the head with the style
 * sheet, the top bar, the main part, and the page's script when asked for. Both inline blocks
 * are the ones pageHeaders() allows by hash.
 */
export function Layout({
  title,
  top,
  script = false,
  children,
}: {
  title: string;
  /** More of the top bar, after the name. */
  top?: Child;
  /** Runs the page's script (the cluster section's refresh). */
  script?: boolean;
  children: Child;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <header class="top">
          <h1>diststore</h1>
          {top}
        </header>
        <main>{children}</main>
        {script && <script dangerouslySetInnerHTML={{ __html: SCRIPT }} />}
      </body>
    </html>
  );
}
