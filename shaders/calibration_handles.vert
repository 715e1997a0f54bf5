#version 330 core
// Calibration's handles: the selected output's corners and mesh nodes as points, and its quad's
// outline as a line loop; positions in the viewport's 0..1 (y down).
layout(location = 0) in vec2 position;
layout(location = 1) in float selected;
uniform float point_size;
out float is_selected;

void main() {
  gl_Position = vec4(position.x * 2.0 - 1.0, 1.0 - position.y * 2.0, 0.0, 1.0);
  gl_PointSize = point_size;
  is_selected = selected;
}
