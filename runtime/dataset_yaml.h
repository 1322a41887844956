// A YOLO dataset's data.yaml, read as Ultralytics 8.4.190's check_det_dataset reads it (data/utils.py), for
// `y26 val`: the split entries resolved to paths, the class names, nothing downloaded.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace y26::runtime {

struct DatasetConfig {
  std::string yaml_file;  // as given
  std::string root;       // the dataset root the splits are relative to (its `path`, else the yaml's folder)
  // "train", "val", "test", "minival": each entry (a folder, an image list or an image) resolved against root
  std::map<std::string, std::vector<std::string>> splits;
  std::vector<std::string> names;  // by class id, 0..nc-1
};

// Reads `yaml_file`. Ultralytics' rules: `train` and `val` required (`validation` accepted for `val`); `names`
// (a list, or a map of ids 0..n-1) or `nc` required, and they must agree; a relative `path` is taken from the
// working directory when it exists there, else (where Ultralytics would look in its datasets folder) from
// the yaml's folder; no `path`: the yaml's folder; a split entry "../x" that does not exist falls back to
// "x". Throws a y26::Error naming the file and what is wrong.
DatasetConfig read_dataset_yaml(const std::string& yaml_file);
// The same from the file's text (`yaml_file` names it in errors and places its folder).
DatasetConfig parse_dataset_yaml(const std::string& text, const std::string& yaml_file);

}  // namespace y26::runtime
