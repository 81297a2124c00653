// Server-Sent Events over fetch() (EventSource cannot POST a body or send headers).

// The value of a "data:" line, or null for any other line (comments, other fields).
function dataOf(line) {
  if (!line.startsWith('data:')) return null;
  return line.slice(line.startsWith('data: ') ? 6 : 5);
}

// Yields the data of each event of a text/event-stream response, in order. Follows the
// event-stream format: "data:" lines of one event join with "\n", a blank line ends the
// event, and LF, CRLF and CR all end lines. Data left without a closing blank line when the
// stream ends is still delivered. Leaving the loop early cancels the response body.
export async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = null;
  const take = (line) => {
    const value = dataOf(line);
    if (value !== null) data = data === null ? value : `${data}\n${value}`;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      // A CR at the very end may be the first half of a CRLF: keep it for the next chunk.
      const lines = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line !== '') {
          take(line);
        } else if (data !== null) {
          yield data;
          data = null;
        }
      }
    }
    take(buffer.replace(/\r$/, ''));
    if (data !== null) yield data;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
