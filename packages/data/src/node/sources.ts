/**
 * Official download locations and their MD5 checksums, with where each checksum comes from.
 */

export interface RemoteFile {
  /** Name of the file in the data directory. */
  fileName: string;
  url: string;
  /** MD5 of the file as served, lowercase hex. */
  md5: string;
}

/** A data set shipped as one archive that unpacks to `folder/`. */
export interface ArchiveSource {
  kind: 'archive';
  archive: RemoteFile;
  folder: string;
  /** Cap on the extracted size: the data set's files plus a margin (a corrupt or hostile archive stops there). */
  maxExtractedBytes: number;
}

/** A data set shipped as separate files, stored under `folder/`. */
export interface FilesSource {
  kind: 'files';
  files: readonly RemoteFile[];
  folder: string;
}

export type DatasetSource = ArchiveSource | FilesSource;

/** CIFAR-10 binary version. MD5 published on https://www.cs.toronto.edu/~kriz/cifar.html. */
export const CIFAR10_SOURCE: ArchiveSource = {
  kind: 'archive',
  archive: {
    fileName: 'cifar-10-binary.tar.gz',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  },
  folder: 'cifar-10-batches-bin',
  // 6 batches of 10,000 × 3,073 bytes = 184.4 MB, plus a meta file and a readme.
  maxExtractedBytes: 200e6,
};

/** CIFAR-100 binary version. MD5 published on https://www.cs.toronto.edu/~kriz/cifar.html. */
export const CIFAR100_SOURCE: ArchiveSource = {
  kind: 'archive',
  archive: {
    fileName: 'cifar-100-binary.tar.gz',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
  },
  folder: 'cifar-100-binary',
  // train.bin 50,000 × 3,074 + test.bin 10,000 × 3,074 bytes = 184.4 MB, plus the label-name files.
  maxExtractedBytes: 200e6,
};

/** STL-10 binary version. MD5 as checked by torchvision's `STL10.tgz_md5` (the site publishes none). */
export const STL10_SOURCE: ArchiveSource = {
  kind: 'archive',
  archive: {
    fileName: 'stl10_binary.tar.gz',
    url: 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz',
    md5: '91f7769df0f17e558f3565bffb0c7dfb',
  },
  folder: 'stl10_binary',
  // 113,000 images of 96 × 96 × 3 bytes = 3.12 GB, plus labels, fold indices and class names.
  maxExtractedBytes: 3.3e9,
};

/** Tiny ImageNet 200 (CS231n publishes no checksum). MD5 the one checked by the community TinyImageNet dataset classes written for torchvision. */
export const TINY_IMAGENET_SOURCE: ArchiveSource = {
  kind: 'archive',
  archive: {
    fileName: 'tiny-imagenet-200.zip',
    url: 'http://cs231n.stanford.edu/tiny-imagenet-200.zip',
    md5: '90528d7ca1a48142e341f4ef8d21d0de',
  },
  folder: 'tiny-imagenet-200',
  // 120,000 small JPEGs, which do not compress: about the zip's 248 MB, plus the annotation text files.
  maxExtractedBytes: 400e6,
};

/** The four gzipped IDX files of an MNIST-like data set, all served from `base`, with their MD5s. */
function idxFiles(
  base: string,
  md5s: {
    'train-images-idx3-ubyte.gz': string;
    'train-labels-idx1-ubyte.gz': string;
    't10k-images-idx3-ubyte.gz': string;
    't10k-labels-idx1-ubyte.gz': string;
  },
): RemoteFile[] {
  return Object.entries(md5s).map(([fileName, md5]) => ({ fileName, url: `${base}${fileName}`, md5 }));
}

/**
 * Fashion-MNIST. MD5s of the four .gz files from the table in the official README
 * (github.com/zalandoresearch/fashion-mnist), the same values torchvision's `FashionMNIST.resources` checks.
 * Debian's `dataset-fashion-mnist` package recompresses the files, so its .gz bytes have other MD5s, while the
 * decompressed IDX content is identical; point `dataDir` at such a copy and no download (hence no MD5 check)
 * happens — the IDX reader still validates every header and size.
 */
export const FASHION_MNIST_SOURCE: FilesSource = {
  kind: 'files',
  folder: 'fashion-mnist',
  files: idxFiles('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', {
    'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
    't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
    't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
  }),
};

/**
 * MNIST, from the PyTorch mirror (yann.lecun.com now refuses most downloads). MD5s from torchvision's
 * `MNIST.resources`, which are those of the original yann.lecun.com files.
 */
export const MNIST_SOURCE: FilesSource = {
  kind: 'files',
  folder: 'mnist',
  files: idxFiles('https://ossci-datasets.s3.amazonaws.com/mnist/', {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
  }),
};
