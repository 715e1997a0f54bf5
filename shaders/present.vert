#version 330 core
// A quad drawn from gl_VertexID alone (no vertex buffer), scaled for the fit mode: `scale` is the
// quad's half-size in normalised device coordinates (1, 1 fills the viewport).
uniform vec2 scale;
out vec2 uv;

void main() {
  vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));  // (0,0) .. (1,1)
  uv = vec2(corner.x, 1.0 - corner.y);  // frame rows are stored top to bottom
  gl_Position = vec4((corner * 2.0 - 1.0) * scale, 0.0, 1.0);
}
