#version 330 core
// One output of the canvas (render/warp.h says the same chain in C++, and its CPU reference is
// what the tests hold this shader to): the window pixel -> the logical pixel (rotation and flips,
// exact integer maths) -> the quad point through the inverse homography (a perspective divide per
// pixel, so the corner-pin is perspective-correct) -> the region point through the mesh's inverse
// (a look-up texture) -> the canvas. Then the light: blend ramps and mask in linear light, black
// lift, the output's brightness, the schedule's light and gamma, dithering.
uniform sampler2D canvas;    // rows bottom-up (a framebuffer texture)
uniform sampler2D mesh_lut;  // quad point -> region point (rg), valid (b)
uniform sampler2D mask;      // the window's pixels, rows top-down (as the PNG)
uniform bool has_mesh;
uniform bool has_mask;
uniform mat3 logical_to_quad;
uniform ivec2 size;          // the window in pixels
uniform ivec2 logical_size;  // the picture before rotation and flips
uniform int rotate;          // 0, 90, 180, 270 (clockwise)
uniform bvec2 flip;          // horizontal, vertical
uniform vec4 region;         // x, y, w, h of the canvas (y down)
uniform vec2 lut_size;
uniform vec4 blend_sides;    // left, right, top, bottom ramp widths (fractions of the region)
uniform float blend_curve;
uniform float blend_gamma;
uniform float black_lift;
uniform float brightness;    // the output's brightness times the schedule's light
uniform float inverse_gamma;
uniform bool dither;
out vec4 colour;

float bayer8(ivec2 p) {
  int x = p.x & 7;
  int y = p.y & 7;
  int a = x ^ y;
  int v = ((a & 1) << 5) | ((y & 1) << 4) | (((a >> 1) & 1) << 3) | (((y >> 1) & 1) << 2) |
          (((a >> 2) & 1) << 1) | ((y >> 2) & 1);
  return (float(v) + 0.5) / 64.0;
}

ivec2 to_logical(ivec2 p) {
  ivec2 f = p;
  if (rotate == 90) f = ivec2(p.y, logical_size.y - 1 - p.x);
  else if (rotate == 180) f = logical_size - 1 - p;
  else if (rotate == 270) f = ivec2(logical_size.x - 1 - p.y, p.x);
  if (flip.x) f.x = logical_size.x - 1 - f.x;
  if (flip.y) f.y = logical_size.y - 1 - f.y;
  return f;
}

float ramp(float t) {
  if (t <= 0.0) return 0.0;
  if (t >= 1.0) return 1.0;
  float a = pow(t, blend_curve);
  float b = pow(1.0 - t, blend_curve);
  return a / (a + b);
}

void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  p.y = size.y - 1 - p.y;  // rows top-down, as the CPU reference counts them
  vec2 o = (vec2(to_logical(p)) + 0.5) / vec2(logical_size);
  vec3 h = logical_to_quad * vec3(o, 1.0);
  vec2 q = h.xy / h.z;
  colour = vec4(0.0, 0.0, 0.0, 1.0);
  if (any(lessThan(q, vec2(-1e-6))) || any(greaterThan(q, vec2(1.0 + 1e-6)))) return;
  vec2 uv = clamp(q, 0.0, 1.0);
  if (has_mesh) {
    vec3 m = texture(mesh_lut, (uv * (lut_size - 1.0) + 0.5) / lut_size).rgb;
    if (m.b < 0.5) return;  // no part of the region lands here
    uv = m.rg;
  }
  vec2 c = region.xy + uv * region.zw;
  vec3 v = texture(canvas, vec2(c.x, 1.0 - c.y)).rgb;

  float w = 1.0;
  if (blend_sides.x > 0.0) w *= ramp(uv.x / blend_sides.x);
  if (blend_sides.y > 0.0) w *= ramp((1.0 - uv.x) / blend_sides.y);
  if (blend_sides.z > 0.0) w *= ramp(uv.y / blend_sides.z);
  if (blend_sides.w > 0.0) w *= ramp((1.0 - uv.y) / blend_sides.w);
  float m = 1.0;
  if (has_mask) m = dot(texelFetch(mask, p, 0).rgb, vec3(0.2126, 0.7152, 0.0722));
  bool lift = uv.x >= blend_sides.x && uv.x <= 1.0 - blend_sides.y && uv.y >= blend_sides.z &&
              uv.y <= 1.0 - blend_sides.w && black_lift > 0.0;
  if (w != 1.0 || m != 1.0 || lift) {
    vec3 light = pow(max(v, vec3(0.0)), vec3(blend_gamma)) * w * m;
    if (lift) light = black_lift + light * (1.0 - black_lift);
    v = pow(light, vec3(1.0 / blend_gamma));
  }
  v = pow(max(v * brightness, vec3(0.0)), vec3(inverse_gamma));
  if (dither) v += (bayer8(ivec2(gl_FragCoord.xy)) - 0.5) / 255.0;
  colour = vec4(clamp(v, 0.0, 1.0), 1.0);
}
