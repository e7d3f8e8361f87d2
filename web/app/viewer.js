// The results viewer: a video player, the people found with their thumbnails and screen
// time, and a timeline with a lane per person. Clicking an appearance seeks the player
// there; as the video plays, the people on screen are highlighted.
//
// A plain ES module with no dependencies: the detector's HTML report inlines it (so the
// detector never needs Node to build), and the web app imports it. Names come from
// users, so text is only ever set as text, never as markup.

/** Unknown faces on screen for less than this get no lane of their own. */
const BRIEF_SECONDS = 2;
/** Lanes drawn at most; the rest are folded into one. */
const MAX_LANES = 12;

/**
 * Times as the detector's table writes them: m:ss, or h:mm:ss for every time of a video
 * an hour or longer.
 */
export function timeFormat(durationSeconds) {
  const hours = durationSeconds >= 3600;
  const clock = (seconds) => {
    const total = Math.max(0, Math.floor(seconds));
    const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
    const ss = String(s).padStart(2, "0");
    return hours ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${Math.floor(total / 60)}:${ss}`;
  };
  // Whole seconds that contain the interval: 50.0-50.5 reads 0:50-0:51.
  const range = (start, end) => {
    const first = Math.max(0, Math.floor(start));
    return `${clock(first)}-${clock(Math.max(Math.ceil(end), first + 1))}`;
  };
  return { clock, range };
}

/**
 * The lanes of the timeline: known people first, then unknown faces by screen time;
 * brief unknown faces, and any beyond the lane limit, folded into "N other faces".
 */
export function lanes(results) {
  const known = results.people.map((person) => ({ people: [person], label: person.name, known: true }));
  const unknown = [...results.unknown].sort((a, b) => b.screenTimeSeconds - a.screenTimeSeconds);
  const room = Math.max(0, MAX_LANES - known.length - 1);
  const own = unknown.filter((p) => p.screenTimeSeconds >= BRIEF_SECONDS).slice(0, room);
  const folded = unknown.filter((p) => !own.includes(p));
  const all = [...known, ...own.map((person) => ({ people: [person], label: person.name, known: false }))];
  if (folded.length === 1) all.push({ people: folded, label: folded[0].name, known: false });
  if (folded.length > 1) all.push({ people: folded, label: `${folded.length} other faces`, known: false });
  return all;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Shows `results` (a cameo results document) in `root`.
 * `videoUrl`: where the player finds the video (null: no player).
 * `imageUrl(path)`: the URL of a face crop the document refers to (null when not kept).
 * Returns the player, so that a page can re-point it (a presigned URL that expires).
 * @param {HTMLElement} root
 * @param {{results: any, videoUrl: string | null, imageUrl?: (path: string) => string | null}} options
 * @returns {HTMLVideoElement}
 */
export function mountViewer(root, { results, videoUrl, imageUrl = () => null }) {
  const duration = Math.max(results.video.durationSeconds, 0.001);
  const format = timeFormat(duration);
  root.replaceChildren();
  root.classList.add("cameo-viewer");

  const title = results.movie?.title ?? results.video.source.split(/[\\/]/).pop();
  root.append(element("h1", "title", title));
  root.append(element("p", "summary",
    `${results.people.length} known, ${results.unknown.length} unknown, ${format.clock(duration)} of video`));

  const player = element("video", "player");
  player.controls = true;
  player.preload = "metadata";
  if (videoUrl) player.src = videoUrl;
  root.append(player);

  // Everyone, with what highlights them while on screen.
  const onScreen = [];
  const watch = (person, node) => onScreen.push({ person, node });

  const people = element("ul", "people");
  for (const person of [...results.people, ...results.unknown]) {
    const card = element("li", "person");
    card.dataset.id = person.id;
    const url = person.thumbnail ? imageUrl(person.thumbnail) : null;
    if (url) {
      const image = element("img", "thumbnail");
      image.src = url;
      image.alt = `${person.name}'s face`;
      card.append(image);
    } else {
      card.append(element("div", "thumbnail missing", "?"));
    }
    card.append(element("span", "name", person.name));
    const count = person.appearances.length;
    card.append(element("span", "screen-time",
      `${person.screenTimeSeconds.toFixed(1)} s, ${count} appearance${count === 1 ? "" : "s"}`));
    card.addEventListener("click", () => seek(person.firstSeenSeconds));
    people.append(card);
    watch(person, card);
  }
  root.append(people);

  const timeline = element("div", "timeline");
  for (const lane of lanes(results)) {
    const row = element("div", lane.known ? "lane known" : "lane unknown");
    row.append(element("span", "lane-label", lane.label));
    const track = element("div", "lane-track");
    for (const person of lane.people) {
      for (const appearance of person.appearances) {
        const bar = element("button", "appearance");
        bar.type = "button";
        const when = format.range(appearance.startSeconds, appearance.endSeconds);
        bar.title = `${person.name} ${when}`;
        bar.setAttribute("aria-label", `${person.name}, ${when}`);
        bar.style.left = `${(100 * appearance.startSeconds) / duration}%`;
        bar.style.width = `${Math.max(0.3, (100 * (appearance.endSeconds - appearance.startSeconds)) / duration)}%`;
        bar.dataset.start = String(appearance.startSeconds);
        bar.addEventListener("click", () => seek(appearance.startSeconds));
        track.append(bar);
      }
    }
    row.append(track);
    for (const person of lane.people) watch(person, row);
    timeline.append(row);
  }
  const axis = element("div", "axis");
  for (let i = 0; i <= 4; i++) {
    const tick = element("span", "tick", format.clock((duration * i) / 4));
    tick.style.left = `${25 * i}%`;
    axis.append(tick);
  }
  timeline.append(axis);
  const playhead = element("div", "playhead");
  timeline.append(playhead);
  root.append(timeline);

  function seek(seconds) {
    player.currentTime = seconds;
    highlight(seconds);
  }

  function highlight(seconds) {
    playhead.style.left = `calc(var(--label-width) + (100% - var(--label-width)) * ${seconds / duration})`;
    const visible = new Set(onScreen
      .filter(({ person }) => person.appearances.some((a) => a.startSeconds <= seconds && seconds < a.endSeconds))
      .map(({ node }) => node));
    for (const { node } of onScreen) node.classList.toggle("on-screen", visible.has(node));
  }

  player.addEventListener("timeupdate", () => highlight(player.currentTime));
  player.addEventListener("seeked", () => highlight(player.currentTime));
  player.addEventListener("error", () => {
    const note = root.querySelector(".player-note") ?? element("p", "player-note");
    note.textContent = "This browser cannot play this video (HEVC, for one, is not played everywhere); the timeline still shows who appears when.";
    player.after(note);
  });
  highlight(0);
  return player;
}
