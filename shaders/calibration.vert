#version 330 core
// A triangle covering the viewport (no vertex buffer); the fragment shader works from
// gl_FragCoord.
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));  // (0,0) (2,0) (0,2)
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
