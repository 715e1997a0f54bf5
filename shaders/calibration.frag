#version 330 core
// Calibration test patterns, drawn procedurally (no textures, no font file). The fragment's point
// in the viewport (0..1, y down) goes through `to_pattern` (a homography: the inverse of the
// output's corner-pin in the one-window preview, the identity when drawing into the canvas) to
// the pattern point uv; outside 0..1 the pixel is black. Lines keep their width in pixels under
// any warp (fwidth). `canvas` places the viewport in the canvas, so grid lines of neighbouring
// outputs meet in their overlap.
uniform vec2 view_size;    // the viewport in pixels
uniform vec2 view_origin;  // its lower-left corner in window pixels (gl_FragCoord's origin)
uniform mat3 to_pattern;   // viewport point (x, y, 1) -> pattern point (homogeneous)
uniform int pattern;       // 0 grid, 1 crosshair, 2 colour bars, 3 blend ramps, 4 numbers
uniform int number;        // the output's number (1..99)
uniform vec4 canvas;       // the viewport's region of the canvas: x, y, w, h (0..1)
uniform vec2 grid_cells;   // grid cells across the canvas (x, y)
out vec4 colour;

// Coverage (0..1) of a line of `width` pixels at distance d (pattern units) whose pixel size is
// px.
float line(float d, float px, float width) {
  return clamp(width * 0.5 - abs(d) / max(px, 1e-6) + 0.5, 0.0, 1.0);
}

// Lines every 1/cells across a coordinate, `width` pixels wide.
float lines(float x, float cells, float px, float width) {
  float f = fract(x * cells + 0.5) - 0.5;
  return line(f / cells, px, width);
}

vec3 grid(vec2 uv, vec2 px) {
  vec2 c = canvas.xy + uv * canvas.zw;  // canvas point: the grid is continuous across outputs
  vec2 cpx = px * canvas.zw;
  float g = max(lines(c.x, grid_cells.x, cpx.x, 2.0), lines(c.y, grid_cells.y, cpx.y, 2.0));
  float fine = max(lines(c.x, grid_cells.x * 4.0, cpx.x, 1.0),
                   lines(c.y, grid_cells.y * 4.0, cpx.y, 1.0));
  // The output's own edge, 4 pixels inside, in red: shows where the output ends after the pin.
  vec2 edge = min(uv, 1.0 - uv) / px;
  float border = step(min(edge.x, edge.y), 4.0);
  vec3 c3 = mix(vec3(0.0), vec3(0.35), fine);
  c3 = mix(c3, vec3(1.0), g);
  return mix(c3, vec3(1.0, 0.0, 0.0), border);
}

vec3 crosshair(vec2 uv, vec2 px) {
  vec2 d = uv - 0.5;
  float cross = max(line(d.x, px.x, 3.0), line(d.y, px.y, 3.0));
  float diag = max(line((d.x - d.y) * 0.7071, length(px), 1.5),
                   line((d.x + d.y) * 0.7071, length(px), 1.5));
  // Circles round in the content (the output's aspect), so the corner-pin warps them as it warps
  // the picture: on the surface they are round when the pin is right.
  float r = length(d * vec2(view_size.x / view_size.y, 1.0));
  float rpx = fwidth(r);
  float rings = max(line(r - 0.25, rpx, 2.0), line(r - 0.475, rpx, 2.0));
  return vec3(max(max(cross, rings), diag * 0.6));
}

// Eight full-intensity bars: white, yellow, cyan, green, magenta, red, blue, black.
vec3 colour_bars(vec2 uv) {
  int i = clamp(int(uv.x * 8.0), 0, 7);
  const vec3 bars[8] = vec3[8](vec3(1, 1, 1), vec3(1, 1, 0), vec3(0, 1, 1), vec3(0, 1, 0),
                               vec3(1, 0, 1), vec3(1, 0, 0), vec3(0, 0, 1), vec3(0, 0, 0));
  return bars[i];
}

// Top half: a ramp from black (left) to white (right) in 8-bit values; bottom half: white, so
// the blend zones between overlapping outputs show as seams in an otherwise flat field.
vec3 blend_ramps(vec2 uv) {
  return uv.y < 0.5 ? vec3(uv.x) : vec3(1.0);
}

// Seven-segment digits. Segments a b c d e f g as bits 0..6, for 0..9.
const int kDigits[10] = int[10](0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F);

float segment(vec2 p, vec2 a, vec2 b) {
  vec2 ab = b - a;
  float t = clamp(dot(p - a, ab) / dot(ab, ab), 0.0, 1.0);
  return length(p - a - ab * t);
}

// Coverage of digit `d` at p, in a cell x 0..1, y 0..2 (y down); strokes `w` wide.
float digit(int d, vec2 p, float w, float px) {
  int bits = kDigits[clamp(d, 0, 9)];
  const vec2 ends[14] = vec2[14](vec2(0, 0), vec2(1, 0), vec2(1, 0), vec2(1, 1), vec2(1, 1),
                                 vec2(1, 2), vec2(0, 2), vec2(1, 2), vec2(0, 1), vec2(0, 2),
                                 vec2(0, 0), vec2(0, 1), vec2(0, 1), vec2(1, 1));
  float cover = 0.0;
  for (int s = 0; s < 7; ++s) {
    if (((bits >> s) & 1) == 0) continue;
    float dist = segment(p, ends[2 * s], ends[2 * s + 1]);
    cover = max(cover, clamp((w * 0.5 - dist) / px + 0.5, 0.0, 1.0));
  }
  return cover;
}

// The output's number, as tall as half the output, centred, over a dim grid.
vec3 numbers(vec2 uv, vec2 px) {
  vec3 back = grid(uv, px) * 0.3;
  int n = clamp(number, 0, 99);
  int count = n >= 10 ? 2 : 1;
  float aspect = view_size.x / view_size.y;
  // Digit cells in units of the number's height (0.5 of the output): each 0.5 wide, 0.25 apart.
  float height = 0.5;
  vec2 p = vec2((uv.x - 0.5) * aspect, uv.y - 0.5) / (height * 0.5);
  float width = float(count) * 1.0 + float(count - 1) * 0.5;  // in cell units (cell = 1 x 2)
  p = p + vec2(width * 0.5, 1.0);                              // cell space, y 0..2
  float pxu = px.y / (height * 0.5);
  float cover = 0.0;
  for (int i = 0; i < count; ++i) {
    int d = count == 2 && i == 0 ? n / 10 : n % 10;
    cover = max(cover, digit(d, p - vec2(float(i) * 1.5, 0.0), 0.28, pxu));
  }
  return mix(back, vec3(1.0, 0.85, 0.1), cover);
}

void main() {
  vec2 o = (gl_FragCoord.xy - view_origin) / view_size;
  o.y = 1.0 - o.y;  // y down, as the outputs' coordinates are
  vec3 q = to_pattern * vec3(o, 1.0);
  vec2 uv = q.xy / q.z;
  vec2 px = fwidth(uv);
  if (q.z <= 0.0 || any(lessThan(uv, vec2(0.0))) || any(greaterThan(uv, vec2(1.0)))) {
    colour = vec4(0.0, 0.0, 0.0, 1.0);
    return;
  }
  vec3 c;
  if (pattern == 0)
    c = grid(uv, px);
  else if (pattern == 1)
    c = crosshair(uv, px);
  else if (pattern == 2)
    c = colour_bars(uv);
  else if (pattern == 3)
    c = blend_ramps(uv);
  else
    c = numbers(uv, px);
  colour = vec4(c, 1.0);
}
