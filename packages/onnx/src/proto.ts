import protobuf from 'protobufjs/light.js';

/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto) that PuMer.js writes, as a protobufjs JSON descriptor.
 * Field numbers are ONNX's own (the wire format depends on them); fields we never write are left out, which
 * protobuf allows. Using the light build keeps the builder free of Node-only code and of a .proto parser.
 */
const descriptor = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            docString: { type: 'string', id: 12 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 } },
          nested: {
            Tensor: {
              fields: {
                elemType: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
      },
    },
  },
};

/** TensorProto.DataType values we use. */
export const ONNX_DTYPE = { float32: 1, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxDType = keyof typeof ONNX_DTYPE;

/** AttributeProto.AttributeType values we use. */
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

const root = protobuf.Root.fromJSON(descriptor);
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataLocation: the bytes are in another file (`externalData` says where). */
export const DATA_LOCATION_EXTERNAL = 1;

/** Plain-object shapes of the messages (camelCase field names, as protobufjs expects). */
export interface TensorProtoInit {
  dims: number[];
  dataType: number;
  name: string;
  /** The bytes, or absent when `externalData` (location, offset, length) points into a weights file. */
  rawData?: Uint8Array;
  externalData?: { key: string; value: string }[];
  dataLocation?: number;
}
export interface AttributeProtoInit {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProtoInit;
  floats?: number[];
  ints?: number[];
}
export interface NodeProtoInit {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: AttributeProtoInit[];
  docString?: string;
}
export interface ValueInfoProtoInit {
  name: string;
  type: {
    tensorType: { elemType: number; shape: { dim: ({ dimValue: number } | { dimParam: string })[] } };
  };
  docString?: string;
}
export interface GraphProtoInit {
  name: string;
  node: NodeProtoInit[];
  initializer: TensorProtoInit[];
  input: ValueInfoProtoInit[];
  output: ValueInfoProtoInit[];
  docString?: string;
}
export interface ModelProtoInit {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: GraphProtoInit;
  opsetImport: { domain: string; version: number }[];
}

/** Serialises a model to ONNX's wire format. */
export function encodeModel(model: ModelProtoInit): Uint8Array {
  // encode() takes plain objects directly; fromObject() would walk (and for bytes, maybe copy) every weight.
  return ModelProto.encode(model as unknown as protobuf.Message).finish();
}

/** Parses ONNX bytes back into plain objects (used by tests to inspect what we wrote). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), {
    longs: Number,
    bytes: Array,
    defaults: false,
  }) as Record<string, unknown>;
}
