#pragma once
// Repacked weights that several kernels of one compiled model read. A tied embedding is both
// the output projection (FullyConnectedCompressed) and the embedding lookup (GatherCompressed):
// each factory asks for the pack of the same constants, the first builds it, the others get the
// same object, so the model holds the table once.
//
// Factories run on several threads (select_kernels); a pack is built outside the lock, once:
// a second factory asking for it meanwhile waits for that one.
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace kiln {
class Node;
}

namespace kiln::cpu {

class SharedPacks {
public:
    /// The pack of `kind` (the layout's name) for the constants `sources`, made by `make` on the
    /// first call; later calls with the same kind and sources return the same pack. If `make`
    /// throws, this call and those waiting for it rethrow.
    template <class T>
    std::shared_ptr<const T> get(const std::string& kind, std::vector<const Node*> sources,
                                 const std::function<std::shared_ptr<const T>()>& make) {
        const Key key{kind, std::move(sources)};
        std::promise<std::shared_ptr<const void>> promise;
        std::shared_future<std::shared_ptr<const void>> ready;
        bool mine = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = packs_.find(key);
            if (it == packs_.end()) {
                ready = promise.get_future().share();
                packs_.emplace(key, ready);
                mine = true;
            } else {
                ready = it->second;
            }
        }
        if (mine) {
            try {
                promise.set_value(make());
            } catch (...) {
                promise.set_exception(std::current_exception());
            }
        }
        return std::static_pointer_cast<const T>(ready.get());
    }

private:
    using Key = std::tuple<std::string, std::vector<const Node*>>;
    std::mutex mutex_;
    std::map<Key, std::shared_future<std::shared_ptr<const void>>> packs_;
};

}  // namespace kiln::cpu
