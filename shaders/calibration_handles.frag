#version 330 core
// A ring (points) or a line: cyan, the selected point filled in orange.
uniform bool points;
in float is_selected;
out vec4 colour;

void main() {
  if (!points) {
    colour = vec4(0.0, 1.0, 1.0, 1.0);
    return;
  }
  float r = length(gl_PointCoord - 0.5) * 2.0;  // 0 at the centre, 1 at the edge
  if (r > 1.0) discard;
  if (is_selected > 0.5) {
    colour = vec4(1.0, 0.55, 0.0, 1.0);
    return;
  }
  if (r < 0.7) discard;
  colour = vec4(0.0, 1.0, 1.0, 1.0);
}
