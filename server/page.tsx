import { ClusterSection, type ClusterStatus } from './page-cluster.js';
import { type FormValues, GetForm, PostForm } from './page-forms.js';
import { Layout } from './page-layout.js';
import { type Outcome, Result } from './page-result.js';

export interface PageProps {
  status: ClusterStatus;
  maxValueBytes: number;
  outcome?: Outcome | undefined;
  form?: FormValues | undefined;
  /** The node has a client token: the header offers to sign out. */
  signedIn?: boolean | undefined;
}

/** The whole page: the forms, the answer to the last one, and the cluster as this node sees it. */
export function Page({ status, maxValueBytes, outcome, form = {}, signedIn }: PageProps) {
  const top = (
    <>
      <p>
        node <code>{status.node.id}</code> in cluster <code>{status.node.cluster}</code>
      </p>
      {signedIn && (
        <form method="post" action="/ui/logout" class="sign-out">
          <button type="submit">Sign out</button>
        </form>
      )}
    </>
  );
  return (
    <Layout title={`diststore · ${status.node.id}`} top={top} script>
      <div class="forms">
        <PostForm values={form} maxValueBytes={maxValueBytes} />
        <GetForm getKey={form.getKey} />
      </div>
      {outcome && <Result outcome={outcome} />}
      <ClusterSection status={status} />
    </Layout>
  );
}
