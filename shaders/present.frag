#version 330 core
// The final image: the two content frames around "now" blended at display rate, then brightness
// and gamma, then ordered dithering at the 8-bit step so slow gradients do not band. While the
// presenter is idle (no content to play) `view` zooms and drifts the sampled window inside the
// frame and `echo` blends toward the frame before (all 1, 0, 0 / 0 when content plays).
uniform sampler2D frame_a;   // content frame k
uniform sampler2D frame_b;   // content frame k + 1
uniform sampler2D frame_c;   // content frame k - 1 (idle ping-pong partner)
uniform float blend;         // position between them, 0..1
uniform float echo;          // weight of frame k - 1
uniform vec3 view;           // zoom (>= 1), offset x, offset y in texture units
uniform float brightness;
uniform float inverse_gamma;
uniform bool dither;
in vec2 uv;
out vec4 colour;

// 8x8 Bayer matrix threshold in (0, 1) for this pixel.
float bayer8(ivec2 p) {
  int x = p.x & 7;
  int y = p.y & 7;
  int v = 0;
  // Interleave the bits of x ^ y and y (the classic recursive construction).
  int a = x ^ y;
  v |= ((a >> 0) & 1) << 5;
  v |= ((y >> 0) & 1) << 4;
  v |= ((a >> 1) & 1) << 3;
  v |= ((y >> 1) & 1) << 2;
  v |= ((a >> 2) & 1) << 1;
  v |= ((y >> 2) & 1) << 0;
  return (float(v) + 0.5) / 64.0;
}

void main() {
  vec2 p = (uv - 0.5) / view.x + 0.5 + view.yz;
  vec3 a = texture(frame_a, p).rgb;
  vec3 b = texture(frame_b, p).rgb;
  vec3 c = mix(mix(a, b, blend), texture(frame_c, p).rgb, echo) * brightness;
  c = pow(max(c, vec3(0.0)), vec3(inverse_gamma));
  if (dither) c += (bayer8(ivec2(gl_FragCoord.xy)) - 0.5) / 255.0;
  colour = vec4(clamp(c, 0.0, 1.0), 1.0);
}
