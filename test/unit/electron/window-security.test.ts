import { describe, expect, it } from 'vitest';
import {
  APP_START_URL,
  denyAllPermissions,
  isAppUrl,
  lockDownContents,
  mainWindowOptions,
} from '../../../src-main/electron/window-security.ts';

type Handler = (...args: unknown[]) => void;

function fakeContents() {
  const handlers = new Map<string, Handler>();
  let openHandler: ((details: unknown) => { action: string }) | null = null;
  return {
    on: (event: string, handler: Handler) => void handlers.set(event, handler),
    setWindowOpenHandler: (handler: (details: unknown) => { action: string }) => {
      openHandler = handler;
    },
    fire(event: string, ...args: unknown[]) {
      handlers.get(event)?.(...args);
    },
    has: (event: string) => handlers.has(event),
    open: (url: string) => openHandler?.({ url }),
  };
}

const fakeEvent = (url?: string) => {
  const event = { url, prevented: false, preventDefault: () => (event.prevented = true) };
  return event;
};

describe('desktop window security', () => {
  it('isolates the page: context isolation, sandbox, no Node, no webviews, web security on', () => {
    const prefs = mainWindowOptions('/app/preload.cjs').webPreferences;
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('works at 1024×768: the window may not be made smaller than that', () => {
    const options = mainWindowOptions('/p');
    expect(options.minWidth).toBeLessThanOrEqual(1024);
    expect(options.minHeight).toBeLessThanOrEqual(768);
  });

  it('the UI comes from the app:// protocol, never file://', () => {
    expect(APP_START_URL.startsWith('app://openvend/')).toBe(true);
    expect(isAppUrl(APP_START_URL)).toBe(true);
    expect(isAppUrl('file:///index.html')).toBe(false);
    expect(isAppUrl('app://openvend.evil/')).toBe(false);
    expect(isAppUrl('http://openvend/')).toBe(false);
  });

  it('denies navigation away from the app, redirects, new windows and webviews', () => {
    const contents = fakeContents();
    lockDownContents(contents as never);

    const away = fakeEvent();
    contents.fire('will-navigate', away, 'https://evil.example/');
    expect(away.prevented).toBe(true);

    const inside = fakeEvent();
    contents.fire('will-navigate', inside, 'app://openvend/index.html');
    expect(inside.prevented).toBe(false);

    const redirect = fakeEvent();
    contents.fire('will-redirect', redirect, 'http://127.0.0.1:9/');
    expect(redirect.prevented).toBe(true);

    const frame = fakeEvent('https://evil.example/');
    contents.fire('will-frame-navigate', frame);
    expect(frame.prevented).toBe(true);

    const webview = fakeEvent();
    contents.fire('will-attach-webview', webview);
    expect(webview.prevented).toBe(true);

    expect(contents.open('https://evil.example/')).toEqual({ action: 'deny' });
    expect(contents.open('app://openvend/index.html')).toEqual({ action: 'deny' });
  });

  it('grants no permission, whatever is asked', () => {
    let request: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | null = null;
    let check: ((...args: unknown[]) => boolean) | null = null;
    denyAllPermissions({
      setPermissionRequestHandler: (h: never) => {
        request = h;
      },
      setPermissionCheckHandler: (h: never) => {
        check = h;
      },
    } as never);
    const answers: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'serial', 'hid', 'clipboard-read']) {
      (request as unknown as (c: unknown, p: string, cb: (ok: boolean) => void) => void)(
        null,
        permission,
        (ok) => answers.push(ok),
      );
    }
    expect(answers).toEqual([false, false, false, false, false, false]);
    expect((check as unknown as () => boolean)()).toBe(false);
  });
});
