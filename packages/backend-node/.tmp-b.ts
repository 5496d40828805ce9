import * as o from 'onnxruntime-node'; console.log('tsx + ort', (process.resourceUsage().maxRSS/1024).toFixed(0))
