// dagre's layered layout as one ES module (graphlib included).
import dagre from "@dagrejs/dagre";
export default dagre;
export const { graphlib, layout } = dagre;
