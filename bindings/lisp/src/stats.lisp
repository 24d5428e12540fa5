;;;; The library's counters of a server, as property lists.

(in-package #:c10k)

(defparameter *stat-names*
  '(:open-connections :accepted :closed :bytes-in :bytes-out :accept-pauses :timeouts
    :requests :responses-1xx :responses-2xx :responses-3xx :responses-4xx :responses-5xx
    :pool-rejections :request-callbacks)
  "The counters of c10k_stats, in its order, after its size.")

(defun stats-plist (stats)
  "The c10k_stats at STATS as a property list (:ACCEPTED 12 ...)."
  (loop for name in *stat-names*
        for slot = (find-symbol (symbol-name name) '#:c10k.ffi)
        collect name
        collect (cffi:foreign-slot-value stats '(:struct c10k-stats) slot)))

(defun call-with-stats-array (count function)
  "Calls FUNCTION with COUNT zeroed c10k_stats, each with its size set."
  (let ((entry (cffi:foreign-type-size '(:struct c10k-stats))))
    (cffi:with-foreign-object (array :uint8 (* count entry))
      (dotimes (i (* count entry))
        (setf (cffi:mem-aref array :uint8 i) 0))
      (dotimes (i count)
        (setf (cffi:foreign-slot-value (cffi:inc-pointer array (* i entry))
                                       '(:struct c10k-stats) 'size)
              entry))
      (funcall function array entry))))

(defun server-stats (server)
  "SERVER's counters as a property list (:OPEN-CONNECTIONS, :ACCEPTED,
:REQUESTS, :RESPONSES-2XX, ...; see c10k_stats in c10k.h) summed over its
loops, and as a second value the list of each loop's. Any thread. NIL once
the server has stopped."
  (with-server-lock (server)
    (let ((lp (server-loop-pointer server))
          (pointer (server-c-server server)))
      (cond ((and pointer (not (cffi:null-pointer-p pointer)))
             (let ((loops (c10k-server-loop-count pointer)))
               (call-with-stats-array
                (1+ loops)
                (lambda (array entry)
                  (check (c10k-server-stats pointer array (cffi:inc-pointer array entry) loops entry)
                         "c10k_server_stats")
                  (values (stats-plist array)
                          (loop for i from 1 to loops
                                collect (stats-plist (cffi:inc-pointer array (* i entry)))))))))
            ((not (cffi:null-pointer-p lp))
             (call-with-stats-array
              1 (lambda (array entry)
                  (declare (ignore entry))
                  (check (c10k-loop-stats lp array) "c10k_loop_stats")
                  (let ((stats (stats-plist array)))
                    (values stats (list stats))))))))))
