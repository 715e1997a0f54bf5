#version 330 core
// The final image: the two content frames around "now" blended at display rate, then brightness
// and gamma, then ordered dithering at the 8-bit step so slow gradients do not band.
uniform sampler2D frame_a;   // content frame k
uniform sampler2D frame_b;   // content frame k + 1
uniform float blend;         // position between them, 0..1
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
  vec3 a = texture(frame_a, uv).rgb;
  vec3 b = texture(frame_b, uv).rgb;
  vec3 c = mix(a, b, blend) * brightness;
  c = pow(max(c, vec3(0.0)), vec3(inverse_gamma));
  if (dither) c += (bayer8(ivec2(gl_FragCoord.xy)) - 0.5) / 255.0;
  colour = vec4(clamp(c, 0.0, 1.0), 1.0);
}
