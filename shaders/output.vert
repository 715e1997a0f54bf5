#version 330 core
// One output: a quad over the whole window; output.frag works out every pixel from gl_FragCoord.
void main() {
  vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
  gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
