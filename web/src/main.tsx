import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { apiKeyStore, eventsConnected, needKey, refreshMediaToken, setApiKey } from './api';
import { KeyPrompt } from './components/KeyPrompt';
import { LibraryPage } from './pages/Library';
import { SearchPage } from './pages/Search';
import { UploadPage } from './pages/Upload';
import { VideoPage } from './pages/Video';
import { useRoute } from './router';
import { useStore } from './util';
import './styles.css';

function Nav({ path }: { path: string }) {
  const connected = useStore(eventsConnected);
  const key = useStore(apiKeyStore);
  const link = (to: string, label: string, active: boolean) => (
    <a href={`#${to}`} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <header class="top">
      <a class="brand" href="#/">
        cutroom
      </a>
      <nav aria-label="Main">
        {link('/', 'Library', path === '/')}
        {link('/upload', 'Upload', path === '/upload')}
        {link('/search', 'Search', path === '/search')}
      </nav>
      <span class={`live ${connected ? 'on' : ''}`} title={connected ? 'Live job events connected' : 'Live job events not connected'}>
        <span class="dot" aria-hidden="true" />
        {connected ? 'live' : 'offline'}
      </span>
      {key ? (
        <button
          type="button"
          class="link small"
          onClick={() => {
            setApiKey('');
            location.reload();
          }}
        >
          Forget key
        </button>
      ) : null}
    </header>
  );
}

function App() {
  const route = useRoute();
  const askKey = useStore(needKey);
  useEffect(() => {
    void refreshMediaToken();
  }, []);
  const m = route.path.match(/^\/videos\/([^/]+)$/);
  let page;
  if (m) page = <VideoPage key={m[1]} id={decodeURIComponent(m[1])} t={Number(route.params.get('t') ?? NaN)} />;
  else if (route.path === '/upload') page = <UploadPage />;
  else if (route.path === '/search') page = <SearchPage q={route.params.get('q') || ''} />;
  else page = <LibraryPage />;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <Nav path={route.path} />
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      {askKey ? <KeyPrompt /> : null}
    </>
  );
}

render(<App />, document.getElementById('app')!);
